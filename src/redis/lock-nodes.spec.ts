import type { AppRedis } from './redis-connections';
import { lockNodesOf } from './lock-nodes';

// Connections are never used here: only their identity (and `isCluster`) matters.
const connection = () => ({ isCluster: false }) as unknown as AppRedis;

describe('lockNodesOf', () => {
  const client = connection();
  const a = connection();
  const b = connection();

  it('puts the locks’ own connection first, wrapped, and no independent nodes without REDIS_LOCK_NODES', () => {
    const { nodes, independentNodes } = lockNodesOf(client, []);
    expect(nodes).toHaveLength(1);
    expect(nodes[0]).not.toBe(client);
    expect(independentNodes).toEqual([]);
  });

  it('maps REDIS_LOCK_NODES after it, in their order', () => {
    const { nodes, independentNodes } = lockNodesOf(client, [a, b]);
    expect(nodes.slice(1)).toEqual([a, b]);
    expect(independentNodes).toEqual([1, 2]);
  });

  it('maps a REDIS_LOCK_NODES entry that is REDIS_URL itself to node 0', () => {
    const { nodes, independentNodes } = lockNodesOf(client, [a, client, b]);
    expect(nodes.slice(1)).toEqual([a, b]);
    expect(independentNodes).toEqual([1, 0, 2]);
  });
});
