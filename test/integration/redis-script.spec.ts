import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { RedisScript, writtenAtOnce, writtenPerTurn } from '../../src/redis/redis-script';
import type { RedisServer } from '../../scripts/stack/redis';
import { startTestRedis } from '../support/shared-stack';

describe(RedisScript.name, () => {
  let server: RedisServer;
  let redis: Redis;
  const dir = mkdtempSync(join(tmpdir(), 'lua-'));
  writeFileSync(
    join(dir, 'incr-by.lua'),
    "local key = KEYS[1]\nlocal by = tonumber(ARGV[1])\nreturn redis.call('INCRBY', key, by)\n",
  );
  const script = RedisScript.fromFile(dir, 'incr-by.lua', 1);

  beforeAll(async () => {
    server = await startTestRedis();
    redis = new Redis(server.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('runs by SHA, loading the script on NOSCRIPT', async () => {
    await redis.script('FLUSH');
    expect(await script.run(redis, ['counter'], [2])).toBe(2);
    await redis.script('FLUSH');
    expect(await script.run(redis, ['counter'], [3])).toBe(5);
  });

  it('recovers a pipeline from NOSCRIPT and returns per-call results', async () => {
    await redis.script('FLUSH');
    const results = await script.runPipeline(redis, [
      { keys: ['a'], args: [1] },
      { keys: ['b'], args: [10] },
    ]);
    expect(results).toEqual([1, 10]);
  });

  it('refuses a call with the wrong number of keys', async () => {
    await expect(script.run(redis, [], [1])).rejects.toThrow('takes 1 keys');
  });

  it('takes optional trailing keys within its declared range', async () => {
    const optional = new RedisScript('optional', "local second = KEYS[2]\nreturn second or 'none'\n", [1, 2]);
    expect(await optional.run(redis, ['x'], [])).toBe('none');
    expect(await optional.run(redis, ['x', 'y'], [])).toBe('y');
    await expect(optional.run(redis, ['x', 'y', 'z'], [])).rejects.toThrow('takes 1 to 2 keys');
  });

  it('hands the reply to `call`’s handler and maps failures with `mapError`', async () => {
    expect(await script.call(redis, ['called'], [4], (reply: number) => reply * 10)).toBe(40);
    const failing = new RedisScript('failing', "local key = KEYS[1]\nreturn redis.call('INCR', key)\n", 1);
    await redis.set('text', 'not a number');
    await expect(
      failing.call(
        redis,
        ['text'],
        [],
        (reply) => reply,
        (error) => new Error(`mapped: ${String(error)}`),
      ),
    ).rejects.toThrow('mapped:');
  });

  describe('writtenAtOnce (past the auto-pipeline)', () => {
    let piped: Redis;
    let direct: ReturnType<typeof writtenAtOnce>;
    beforeAll(() => {
      piped = new Redis(server.url, { enableAutoPipelining: true });
      direct = writtenAtOnce(piped);
    });
    afterAll(() => piped?.disconnect());

    it('runs by SHA, sending the source on NOSCRIPT, and hands the reply to its handler', async () => {
      await piped.set('now', 0);
      await piped.script('FLUSH');
      expect(await script.call(direct, ['now'], [2], (n: number) => n * 10)).toBe(20);
      expect(await script.call(direct, ['now'], [3], (n: number) => n)).toBe(5);
    });

    it('answers bulk replies as strings, as the generated commands do', async () => {
      const echo = new RedisScript('echo', 'local key = KEYS[1]\nreturn {key, ARGV[1]}\n', 1);
      expect(await echo.call(direct, ['k'], ['v'], (reply: string[]) => reply)).toEqual(['k', 'v']);
    });

    it('refuses a call with the wrong number of keys', async () => {
      await expect(script.call(direct, [], [1], (reply) => reply)).rejects.toThrow('takes 1 keys');
    });

    it('is written at once: ahead of an auto-pipelined command issued before it in the same turn', async () => {
      await piped.set('order', 0);
      await script.call(direct, ['order'], [0], (reply) => reply); // SHA loaded
      // The auto-pipeline holds SET until the turn's end; the direct call overtakes it. Through the
      // auto-pipeline (`call` on the connection itself) the two would run in the order issued and leave 1.
      const set = piped.set('order', 100);
      const incr = script.call(direct, ['order'], [1], (n: number) => n);
      expect(await incr).toBe(1);
      await set;
      expect(await piped.get('order')).toBe('100');
      const viaPipeline = [piped.set('order', 100), script.call(piped, ['order'], [1], (n: number) => n)];
      expect((await Promise.all(viaPipeline))[1]).toBe(101);
    });
  });

  describe('writtenPerTurn (the lock connection: one socket write per event-loop turn)', () => {
    let connection: Redis;
    beforeAll(async () => {
      connection = new Redis(server.url);
      await connection.ping();
    });
    afterAll(() => connection?.disconnect());

    /** Socket writes (`_write` / `_writev` calls) while `calls` are issued in one turn, and their replies. */
    async function writesOf(calls: () => Promise<unknown>[]): Promise<{ writes: number; replies: unknown[] }> {
      const socket = connection.stream as unknown as { _write: () => void; _writev: () => void };
      const single = jest.spyOn(socket, '_write');
      const vector = jest.spyOn(socket, '_writev');
      try {
        const replies = await Promise.all(calls());
        return { writes: single.mock.calls.length + vector.mock.calls.length, replies };
      } finally {
        single.mockRestore();
        vector.mockRestore();
      }
    }

    it('sends the calls of one turn in one write, each answered in order', async () => {
      const client = writtenPerTurn(connection);
      await connection.set('turn', 0);
      await script.run(client, ['turn'], [0]); // SHA loaded
      const { writes, replies } = await writesOf(() =>
        Array.from({ length: 5 }, () => script.call(client, ['turn'], [1], (n: number) => n)),
      );
      expect(replies).toEqual([1, 2, 3, 4, 5]);
      expect(writes).toBe(1);
    });

    it('negative control: written at once, each call is a write of its own', async () => {
      const client = writtenAtOnce(connection);
      await connection.set('turn', 0);
      const { writes, replies } = await writesOf(() =>
        Array.from({ length: 5 }, () => script.call(client, ['turn'], [1], (n: number) => n)),
      );
      expect(replies).toEqual([1, 2, 3, 4, 5]);
      expect(writes).toBe(5);
    });

    it('runs calls made before the connection is ready, and the lock library’s other commands', async () => {
      const fresh = new Redis(server.url);
      try {
        const client = writtenPerTurn(fresh);
        expect(fresh.status).not.toBe('ready');
        const key = `early:${Date.now()}`;
        expect(await script.run(client, [key], [7])).toBe(7);
        expect(await client.pttl(key)).toBe(-1);
        expect(await client.hexists('early-hash', 'field')).toBe(0);
      } finally {
        fresh.disconnect();
      }
    });
  });
});
