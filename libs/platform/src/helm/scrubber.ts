/**
 * Keeps values out of what helm and the Kubernetes API print. Helm, the API server and the
 * libraries between them quote values in errors in several encodings, so each value is searched
 * for in every form it can take there: as is, JSON- and Go-quoted (`%q`, `%+q`), YAML-escaped,
 * percent-encoded, and base64 (standard and URL-safe, padded or not, and at any byte offset
 * inside a longer base64 string, as in a Kubernetes Secret's `data` holding a DSN).
 */

/**
 * Strings shorter than this are not scrubbed: a 1–3 character value ("web", "v2", "en") matches
 * ordinary words all over helm's output, and a secret that short is guessable anyway. Four keeps
 * PIN-like secrets (and short tokens in unmarked fields) out of errors.
 */
export const MIN_SCRUB_LENGTH = 4;
/** Base64 fragments of a value at an offset: shorter ones would match unrelated base64 too often. */
const MIN_FRAGMENT_LENGTH = 8;
const REPLACEMENT = '[redacted]';

/**
 * Values that are ordinary text, not secrets: blanking them would make errors unreadable (a
 * "true" or a "8080" anywhere in a message) while hiding nothing worth hiding.
 */
const ORDINARY: readonly RegExp[] = [
  // YAML/JSON scalars spelled as strings.
  /^(true|false|yes|no|on|off|null|nil|none)$/i,
  // Numbers: ports, counts, years. Longer digit strings (PINs, account or card numbers) are scrubbed.
  /^[-+]?\d{1,5}(\.\d+)?$/,
  // Kubernetes quantities and durations.
  /^\d+(\.\d+)?(m|k|Ki|Mi|Gi|Ti|Pi|Ei|M|G|T|P|E)$/,
  /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/,
];

export function isOrdinary(value: string): boolean {
  return value.length < MIN_SCRUB_LENGTH || ORDINARY.some((re) => re.test(value));
}

const hex = (n: number, width: number, upper = false) => {
  const h = n.toString(16).padStart(width, '0');
  return upper ? h.toUpperCase() : h;
};
const codePoints = (s: string) => Array.from(s, (c) => c.codePointAt(0)!);
/** Go's unicode.IsPrint, near enough: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const isGoPrint = (c: number) => c === 0x20 || /[\p{L}\p{M}\p{N}\p{P}\p{S}]/u.test(String.fromCodePoint(c));
const GO_NAMED: Record<number, string> = { 7: '\\a', 8: '\\b', 12: '\\f', 10: '\\n', 13: '\\r', 9: '\\t', 11: '\\v' };

/** strconv.Quote without the quotes (`%q`); `ascii` is strconv.QuoteToASCII (`%+q`); `bytes` escapes non-ASCII as its UTF-8 bytes. */
export function goQuote(s: string, mode: 'unicode' | 'ascii' | 'bytes' = 'unicode'): string {
  let out = '';
  for (const c of codePoints(s)) {
    const ch = String.fromCodePoint(c);
    if (c === 0x22 || c === 0x5c) out += `\\${ch}`;
    else if (c < 0x80 ? isGoPrint(c) : mode === 'unicode' && isGoPrint(c)) out += ch;
    else if (GO_NAMED[c]) out += GO_NAMED[c];
    else if (c < 0x20 || c === 0x7f) out += `\\x${hex(c, 2)}`;
    else if (mode === 'bytes') out += [...Buffer.from(ch, 'utf8')].map((b) => `\\x${hex(b, 2)}`).join('');
    else out += c < 0x10000 ? `\\u${hex(c, 4)}` : `\\U${hex(c, 8)}`;
  }
  return out;
}

/** JSON string content. `ascii` escapes non-ASCII as \u (UTF-16 units, as Python's json does); `go` also escapes <, > and & as Go's encoding/json does. */
export function jsonQuote(s: string, mode: 'plain' | 'ascii' | 'go' = 'plain'): string {
  let out = JSON.stringify(s).slice(1, -1);
  if (mode === 'go') out = out.replace(/[<>&\u2028\u2029]/g, (ch) => `\\u${hex(ch.charCodeAt(0), 4)}`);
  // eslint-disable-next-line no-control-regex -- finding control characters is what this pattern is for
  if (mode === 'ascii') out = out.replace(/[^\x00-\x7f]/g, (ch) => `\\u${hex(ch.charCodeAt(0), 4)}`);
  return out;
}

const YAML_NAMED: Record<number, string> = {
  0: '\\0',
  7: '\\a',
  8: '\\b',
  9: '\\t',
  10: '\\n',
  11: '\\v',
  12: '\\f',
  13: '\\r',
  0x1b: '\\e',
  0x22: '\\"',
  0x5c: '\\\\',
  0x85: '\\N',
  0x2028: '\\L',
  0x2029: '\\P',
};
/** go-yaml's is_printable: outside the BMP is escaped too. */
const isYamlPrintable = (c: number) => (c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd && c !== 0xfeff);

/** A YAML double-quoted scalar's content as go-yaml (helm, kubectl) writes it: upper-case hex escapes. */
export function yamlDoubleQuote(s: string): string {
  let out = '';
  for (const c of codePoints(s)) {
    if (YAML_NAMED[c] !== undefined) out += YAML_NAMED[c];
    else if (isYamlPrintable(c)) out += String.fromCodePoint(c);
    else out += c <= 0xff ? `\\x${hex(c, 2, true)}` : c <= 0xffff ? `\\u${hex(c, 4, true)}` : `\\U${hex(c, 8, true)}`;
  }
  return out;
}

/**
 * Base64 of the value as a whole, and the characters of its base64 that depend on its bytes alone
 * at each of the three offsets mod 3 (inside a longer encoded string, the one or two characters at
 * each edge that also carry neighbouring bytes stay: at most a byte and a half of the value).
 */
export function base64Forms(s: string): string[] {
  const bytes = Buffer.from(s, 'utf8');
  const whole = bytes.toString('base64');
  const forms = [whole, whole.replace(/=+$/, '')];
  for (let k = 0; k < 3; k++) {
    const enc = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64');
    const fragment = enc.slice(Math.ceil((8 * k) / 6), Math.floor((8 * (k + bytes.length)) / 6));
    if (fragment.length >= MIN_FRAGMENT_LENGTH) forms.push(fragment);
  }
  return forms.flatMap((f) => [f, f.replace(/\+/g, '-').replace(/\//g, '_')]);
}

/** Every form of `s` the scrubber looks for, the value itself first. */
export function encodedForms(s: string): string[] {
  const quoted = [jsonQuote(s), jsonQuote(s, 'ascii'), jsonQuote(s, 'go'), goQuote(s), goQuote(s, 'ascii'), goQuote(s, 'bytes'), yamlDoubleQuote(s)];
  const forms = [
    s,
    ...quoted,
    // The same escapes in upper-case hex (\u00E9 as well as \u00e9).
    ...quoted.map((q) => q.replace(/\\(x[0-9a-f]{2}|u[0-9a-f]{4}|U[0-9a-f]{8})/g, (_m, e: string) => `\\${e[0]}${e.slice(1).toUpperCase()}`)),
    // Quoted twice: an error message that was itself put into a JSON or Go string.
    ...[jsonQuote(s), goQuote(s)].map((q) => jsonQuote(q)),
    jsonQuote(s).replace(/\//g, '\\/'),
    s.replace(/'/g, "''"),
    encodeURIComponent(s),
    ...base64Forms(s),
  ];
  // Lines of a multi-line value (a PEM key): a YAML block scalar prints them one per line.
  if (/[\r\n]/.test(s)) forms.push(...s.split(/\r?\n/).filter((line) => line.trim().length >= MIN_FRAGMENT_LENGTH));
  return [...new Set(forms)].filter((f) => f.length >= MIN_SCRUB_LENGTH);
}

/**
 * Removes every string value (in every encoded form) and the values file's path from helm
 * output. Helm and the API server may quote values in errors ("Invalid value: …", schema
 * patterns, a rejected Secret); none may reach logs, events, lastError or workflow history.
 * All string values are scrubbed, not only those a schema marks secret: an unmarked value may be
 * sensitive too, and ordinary ones (numbers, booleans, quantities, short words) stay readable.
 */
export function makeScrubber(
  values: object | undefined,
  valuesFile?: string,
  /** Identifiers that may appear in values but are no secret (release and namespace names). */
  publicStrings: readonly string[] = [],
): (text: string) => string {
  const secrets = new Set<string>();
  const collect = (v: unknown): void => {
    if (typeof v === 'string' && !isOrdinary(v) && !publicStrings.includes(v)) secrets.add(v);
    else if (Array.isArray(v)) v.forEach(collect);
    else if (v && typeof v === 'object') Object.values(v).forEach(collect);
  };
  collect(values);
  // Longest first, so a value containing another is removed whole.
  const needles = [...new Set([...secrets].flatMap(encodedForms))].sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    if (valuesFile) out = out.split(valuesFile).join('<values file>');
    for (const needle of needles) if (out.includes(needle)) out = out.split(needle).join(REPLACEMENT);
    return out;
  };
}
