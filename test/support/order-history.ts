import { tokenFor } from './flash-sale';
import { http } from './http';

/** One answer of `GET /voucher-order/:id` as its owner saw it (status 0: no answer at all). */
export interface Observation {
  status: number;
  state?: string;
  code?: string;
}

/** One buyer's order as the buyer lived it: the sale's answer, then every state polled after it. */
export interface OrderHistory {
  userId: string;
  answer: number;
  orderId?: string;
  observed: Observation[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const FINAL = new Set(['CREATED', 'FAILED']);

async function observe(baseUrl: string, orderId: string, userId: string): Promise<Observation> {
  try {
    const response = await http<{ state?: string; code?: string }>('GET', `${baseUrl}/voucher-order/${orderId}`, {
      token: tokenFor(userId),
    });
    return { status: response.status, state: response.body.state, code: response.body.code };
  } catch {
    return { status: 0 };
  }
}

/**
 * Orders once as `userId`, then, for a 201/202, polls the order every `pollMs` until it is final
 * (CREATED or FAILED) and `afterFinal` more times (a final state must stay), or `deadline` passes.
 */
export async function buyAndFollow(
  baseUrl: string,
  voucherId: string,
  userId: string,
  options: { pollMs: number; afterFinal: number; deadline: number },
): Promise<OrderHistory> {
  let answer = 0;
  let orderId: string | undefined;
  try {
    const response = await http<{ orderId?: string }>('POST', `${baseUrl}/voucher-order/seckill/${voucherId}`, {
      token: tokenFor(userId),
    });
    answer = response.status;
    orderId = response.body.orderId;
  } catch {
    // No answer: nothing was promised.
  }
  const history: OrderHistory = { userId, answer, orderId, observed: [] };
  if ((answer !== 201 && answer !== 202) || !orderId) {
    return history;
  }
  let extra = -1;
  while (extra < options.afterFinal && Date.now() < options.deadline) {
    const seen = await observe(baseUrl, orderId, userId);
    history.observed.push(seen);
    if (extra >= 0 || (seen.status === 200 && FINAL.has(seen.state!))) {
      extra++;
    }
    await sleep(options.pollMs);
  }
  return history;
}

/** Answers that say "not now" (Redis or MySQL down, no replica reachable): no state, and no promise broken. */
const transient = (seen: Observation) =>
  seen.status === 0 ||
  (seen.status === 503 && /^(REDIS_UNAVAILABLE|DATABASE_UNAVAILABLE|UPSTREAM_UNAVAILABLE)$/.test(seen.code ?? ''));

/**
 * What is wrong with one history, if anything: every observed state must lie on a path
 * `PENDING → CREATED` or `PENDING → FAILED` (sync: `CREATED` from the first look), never a 404 after
 * the 201/202, never back from a final state; the last state is final and agrees with MySQL
 * (`persisted`: order id → buyer).
 */
export function historyViolation(history: OrderHistory, persisted: Map<string, string>): string | undefined {
  if (history.answer !== 201 && history.answer !== 202) {
    return undefined;
  }
  const states: string[] = [];
  for (const seen of history.observed) {
    if (transient(seen)) {
      continue;
    }
    if (seen.status !== 200) {
      return `${seen.status} ${seen.code ?? ''} after ${history.answer}`;
    }
    states.push(seen.state!);
  }
  const path = states.join(' → ');
  const first = history.answer === 201 ? 'CREATED' : 'PENDING';
  const final = states.findIndex((state) => FINAL.has(state));
  const legal =
    final >= 0 &&
    states.slice(0, final).every((state) => state === first) &&
    states.slice(final).every((state) => state === states[final]) &&
    (history.answer === 202 || states[final] === 'CREATED');
  if (!legal) {
    return `illegal path ${path || '(nothing observed)'}`;
  }
  const inMysql = persisted.get(history.orderId!) === history.userId;
  if (inMysql !== (states[final] === 'CREATED')) {
    return `final ${states[final]} but ${inMysql ? 'in' : 'not in'} MySQL`;
  }
  return undefined;
}

/** The violations of many histories, one line each (order id: what). */
export function historyViolations(histories: OrderHistory[], persisted: Map<string, string>): string[] {
  return histories.flatMap((history) => {
    const violation = historyViolation(history, persisted);
    return violation ? [`${history.orderId} (user ${history.userId}): ${violation}`] : [];
  });
}
