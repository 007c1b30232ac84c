import { act, fireEvent, render, screen } from '@testing-library/react';
import { fieldErrorsToErrorSchema, secretUiSchema, userSchema, ValuesForm } from './values-form';

// Shaped like charts/examples/webapp-1.x: user values live under `user`, with a $ref'd definition.
const SCHEMA = {
  type: 'object',
  properties: {
    replicas: { type: 'integer' },
    user: {
      description: 'What the deployment owner may set.',
      type: 'object',
      additionalProperties: false,
      properties: {
        title: { type: 'string', maxLength: 10, title: 'Title' },
        theme: { enum: ['light', 'dark'], title: 'Theme' },
        adminPassword: { type: 'string', minLength: 8, title: 'Admin password', 'x-caelus-secret': true },
        smtp: {
          type: 'object',
          title: 'SMTP',
          properties: {
            host: { type: 'string', title: 'Host', default: 'mail.example.com' },
            password: { $ref: '#/definitions/secret' },
          },
        },
        aliases: { type: 'array', title: 'Aliases', items: { type: 'string' } },
      },
    },
  },
  definitions: { secret: { type: 'string', title: 'SMTP password', 'x-caelus-secret': true } },
};

async function renderSut(props: Partial<Parameters<typeof ValuesForm>[0]> = {}) {
  const onSubmit = jest.fn();
  const utils = render(<ValuesForm valuesSchema={SCHEMA} initial={{ title: 'Mine', aliases: ['a'] }} fieldErrors={[]} submitLabel="Save" onSubmit={onSubmit} {...props} />);
  await act(async () => undefined);
  return { onSubmit, ...utils };
}

describe(ValuesForm.name, () => {
  it('generates fields from the user part of the schema: nested objects, enums, arrays and defaults', async () => {
    await renderSut();
    expect(screen.getByLabelText<HTMLInputElement>('Title').value).toBe('Mine');
    const theme = screen.getByLabelText<HTMLSelectElement>('Theme');
    expect(theme.tagName).toBe('SELECT');
    expect([...theme.options].map((o) => o.value).filter(Boolean)).toHaveLength(2);
    expect(screen.getByText('SMTP')).toBeTruthy();
    expect(screen.getByLabelText<HTMLInputElement>('Host').value).toBe('mail.example.com');
    expect(screen.getByText('Aliases')).toBeTruthy();
    expect(screen.queryByLabelText('replicas')).toBeNull();
  });

  it('renders x-caelus-secret fields, also behind a $ref, as password inputs', async () => {
    await renderSut();
    expect(screen.getByLabelText<HTMLInputElement>('Admin password').type).toBe('password');
    expect(screen.getByLabelText<HTMLInputElement>('SMTP password').type).toBe('password');
    expect(screen.getByLabelText<HTMLInputElement>('Title').type).toBe('text');
    expect(secretUiSchema(userSchema(SCHEMA)!)).toEqual({ adminPassword: { 'ui:widget': 'password' }, smtp: { password: { 'ui:widget': 'password' } } });
  });

  it('submits the values it holds', async () => {
    const { onSubmit, container } = await renderSut();
    fireEvent.change(screen.getByLabelText('Title'), { target: { value: 'Other' } });
    fireEvent.change(screen.getByLabelText('Theme'), { target: { value: '1' } });
    await act(async () => {
      fireEvent.submit(container.querySelector('form')!);
    });
    expect(onSubmit).toHaveBeenCalledTimes(1);
    expect(onSubmit.mock.calls[0][0]).toMatchObject({ title: 'Other', theme: 'dark', aliases: ['a'], smtp: { host: 'mail.example.com' } });
  });

  it('validates in the browser before sending, next to the field', async () => {
    const { onSubmit, container } = await renderSut();
    fireEvent.change(screen.getByLabelText('Title'), { target: { value: 'far too long a title' } });
    await act(async () => {
      fireEvent.submit(container.querySelector('form')!);
    });
    expect(onSubmit).not.toHaveBeenCalled();
    const group = screen.getByLabelText('Title').closest('.form-group')!;
    expect(group.querySelector('.error-detail')?.textContent).toMatch(/10/);
  });

  it("shows the API's field errors next to their fields", async () => {
    await renderSut({
      fieldErrors: [
        { field: '/user/adminPassword', message: 'must NOT have fewer than 8 characters' },
        { field: '/user/smtp/host', message: 'host is not allowed' },
      ],
    });
    const password = screen.getByLabelText('Admin password').closest('.form-group')!;
    expect(password.textContent).toContain('must NOT have fewer than 8 characters');
    const host = screen.getByLabelText('Host').closest('.form-group')!;
    expect(host.textContent).toContain('host is not allowed');
  });

  it('maps API field pointers to an error schema; others land on the form', () => {
    expect(
      fieldErrorsToErrorSchema([
        { field: '/user/a/0/b', message: 'x' },
        { field: '/user', message: 'y' },
        { field: '/replicas', message: 'z' },
        { field: 'domainName', message: 'w' },
      ]),
    ).toEqual({
      a: { 0: { b: { __errors: ['x'] } } },
      __errors: ['y', '/replicas: z'],
    });
  });

  it('falls back to a JSON editor for a template without a schema', async () => {
    const onSubmit = jest.fn();
    render(<ValuesForm valuesSchema={null} initial={{ a: 1 }} fieldErrors={[]} submitLabel="Save" onSubmit={onSubmit} />);
    const editor = await screen.findByLabelText<HTMLTextAreaElement>(/Values \(JSON/);
    fireEvent.change(editor, { target: { value: '[1]' } });
    fireEvent.click(screen.getByText('Save'));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByText(/must be a JSON object/)).toBeTruthy();
    fireEvent.change(editor, { target: { value: '{"b": 2}' } });
    fireEvent.click(screen.getByText('Save'));
    expect(onSubmit).toHaveBeenCalledWith({ b: 2 });
  });
});
