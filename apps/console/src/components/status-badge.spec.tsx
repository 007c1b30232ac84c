import { render, screen } from '@testing-library/react';
import { StatusBadge } from './status-badge';

describe(StatusBadge.name, () => {
  it.each([
    ['ready', 'Ready', false],
    ['provisioning', 'Provisioning', true],
    ['upgrading', 'Upgrading', true],
    ['deleting', 'Deleting', true],
    ['degraded', 'Degraded', false],
    ['error', 'Error', false],
  ])('shows %s as the word %j, marked busy: %s', (status, label, busy) => {
    const { container } = render(<StatusBadge status={status} />);
    const sut = container.querySelector('.badge')!;
    expect(sut).toHaveProperty('textContent', label);
    expect(sut.classList.contains(`badge-${status}`)).toBe(true);
    expect(sut.classList.contains('badge-busy')).toBe(busy);
    expect(sut.getAttribute('data-status')).toBe(status);
  });

  it('shows a status it does not know as it is, in a neutral colour', () => {
    render(<StatusBadge status="hibernating" />);
    const sut = screen.getByText('hibernating');
    expect(sut.classList.contains('badge-unknown')).toBe(true);
  });
});
