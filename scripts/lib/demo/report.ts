/**
 * How the demo prints: numbered steps (who does what, through which API, what came back),
 * wallet tables and the closing summary. Pure formatting, no I/O besides the `log` callback.
 */

export interface Wallet {
  pending: number;
  available: number;
  in_transit: number;
  paid_out: number;
}

export interface StepOutcome {
  n: number;
  title: string;
  ok: boolean;
  detail: string;
  ms: number;
}

/** A step whose expected outcome did not happen. */
export class DemoExpectationFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DemoExpectationFailed';
  }
}

export function expectThat(condition: boolean, message: string): asserts condition {
  if (!condition) throw new DemoExpectationFailed(message);
}

/** 2500 EUR → "€25.00"; negative amounts keep their sign. */
export function money(cents: number, currency = 'EUR'): string {
  const symbol = currency === 'EUR' ? '€' : `${currency} `;
  const sign = cents < 0 ? '−' : '';
  return `${sign}${symbol}${(Math.abs(cents) / 100).toFixed(2)}`;
}

export function walletLine(label: string, w: Wallet, currency = 'EUR'): string {
  return `${label}: pending ${money(w.pending, currency)} · available ${money(w.available, currency)} · ` +
    `in transit ${money(w.in_transit, currency)} · paid out ${money(w.paid_out, currency)}`;
}

/** Platform ledger accounts, shown as the change since the demo started (debit +, as the ledger stores them). */
export function platformLines(delta: Record<string, number>, currency = 'EUR'): string[] {
  const labels: Record<string, string> = {
    platform_cash: 'cash held at Stripe (platform_cash)',
    platform_fees: 'fee revenue (platform_fees, credit −)',
    stripe_fees: 'Stripe processing fees (stripe_fees)',
    dispute_fees: 'dispute fees borne by the platform (dispute_fees)',
    refunds: 'refunds clearing (refunds)',
    disputes: 'disputes clearing (disputes)',
    suspense: 'suspense',
  };
  const kinds = Object.keys(delta).filter((k) => delta[k] !== 0).sort();
  if (kinds.length === 0) return ['Platform ledger: no change during this run'];
  return ['Platform ledger, change during this run (the admin app: rpc(\'admin_dashboard\', { p_view: \'platform_balances\' }); debit +, credit −):',
    ...kinds.map((k) => `  ${labels[k] ?? k}: ${delta[k]! >= 0 ? '+' : ''}${money(delta[k]!, currency)}`)];
}

export function summaryLines(steps: StepOutcome[], failure: string | undefined): string[] {
  const width = String(steps.length).length;
  const lines = steps.map((s) => `${s.ok ? 'ok  ' : 'FAIL'} ${String(s.n).padStart(width)}. ${s.title} (${s.ms} ms)`);
  const passed = steps.filter((s) => s.ok).length;
  lines.push(failure === undefined
    ? `demo: all ${passed} steps happened as expected`
    : `demo: stopped at step ${steps.length} — ${failure}`);
  return lines;
}
