import { PassThrough, Readable } from 'node:stream';
import { devLogFormat, prettyLogs } from './dev-logs';

describe('dev logs', () => {
  describe(devLogFormat.name, () => {
    it.each([
      [{ isTTY: true }, 'pretty'],
      [{ isTTY: false }, 'json'],
      [{}, 'json'],
    ] as const)('on %o prints %s', (out, format) => {
      expect(devLogFormat(out)).toBe(format);
    });
  });

  describe(prettyLogs.name, () => {
    it("prints a JSON line as the level, the child's name and the message, and other lines unchanged", async () => {
      const out = new PassThrough();
      let text = '';
      out.on('data', (chunk: Buffer) => (text += chunk.toString()));
      const logs = Readable.from([`${JSON.stringify({ level: 30, time: Date.parse('2026-11-30T10:00:00Z'), pid: 1, hostname: 'h', msg: 'listening on 3000' })}\n`, 'Error: boom\n']);
      prettyLogs('api', logs, out);
      await new Promise((r) => logs.on('end', r));
      await new Promise((r) => setImmediate(r));
      const lines = text
        // eslint-disable-next-line no-control-regex -- strips the ANSI colour codes pino-pretty writes
        .replace(/\x1b\[[0-9;]*m/g, '')
        .trimEnd()
        .split('\n');
      expect(lines[0]).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[api\] listening on 3000$/);
      expect(lines).toContain('Error: boom');
      expect(text).not.toContain('"hostname"');
    });
  });
});
