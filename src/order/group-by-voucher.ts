/** Items grouped by their voucher, in first-seen order (batches, returns and settles are per sale). */
export function groupByVoucher<T extends { voucherId: string }>(items: Iterable<T>): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    let group = groups.get(item.voucherId);
    if (!group) {
      groups.set(item.voucherId, (group = []));
    }
    group.push(item);
  }
  return groups;
}
