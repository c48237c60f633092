// Embedded so the package ships its scripts inside its JavaScript (no .lua asset to copy or find at
// run time). The Lua's own comments say why each step is there.
import { NEXT_TOKEN_LUA } from './next-token.lua';

export const ACQUIRE_LUA = String.raw`
-- Reentrant acquire (Redisson layout): a hash per lock, field = owner, value = hold count; the
-- fencing counter is a key of its own, so a final release leaves an empty hash, which Redis deletes.
-- Replies are shaped for the hot path (integers parse cheapest):
--   integer > 0        acquired, hold count 1; the integer is the fencing token
--   integer <= 0       busy; its negation is the lock's remaining TTL in ms (0 = no TTL)
--   {token, holdCount} re-entered (hold count > 1)
local lockKey = KEYS[1]
local fenceKey = KEYS[2]
-- The queue of waiting processes, passed only by callers that ask to be listed (ARGV[4], ARGV[5]):
-- a sorted set (member: process id, score: arrival in server µs) and a hash of what each listed
-- process waits with (process id -> owner, lease, listed-until ms), read by release.lua to grant
-- the lock straight to the first of them.
local waitersKey = KEYS[3]
local waiterInfoKey = KEYS[4]
local owner = ARGV[1]
local leaseMs = tonumber(ARGV[2])
-- '1' when the caller already holds the lock and re-enters (never acquires anew); '0' or absent
-- for a first acquisition.
local reenter = ARGV[3] == '1'
-- How long to list the calling process (ARGV[5]) as waiting if the lock is busy; absent = do not list.
local waiterTtlMs = tonumber(ARGV[4] or '0')
local waiterId = ARGV[5]
-- '1': a fair lock (strict FIFO across every owner of every process): the queue's members are
-- owners, and a free lock is taken only by the first live one in line (or by anyone if nobody waits).
local fair = ARGV[6] == '1'

-- Checked before any write (script writes are not rolled back): a lease that PEXPIRE refuses would
-- leave the hash with no TTL, held forever; 0 or less would grant a lock that is already gone.
if not leaseMs or leaseMs ~= leaseMs or leaseMs < 1 or leaseMs > 2147483647 or leaseMs ~= math.floor(leaseMs) then
  return redis.error_reply('ERR invalid lease ' .. tostring(ARGV[2]))
end

${NEXT_TOKEN_LUA}
if reenter then
  -- A re-entry never takes the lock anew: if this owner's hold is gone, so is the outer critical
  -- section's exclusivity, and the caller must learn it lost the lock.
  if redis.call('hexists', lockKey, owner) == 0 then
    return -math.max(redis.call('pttl', lockKey), 0)
  end
  redis.call('pexpire', lockKey, leaseMs)
  local token = tonumber(redis.call('get', fenceKey)) or nextToken(redis.call('time'))
  return {token, redis.call('hincrby', lockKey, owner, 1)}
end

-- A fair lock's first live waiter in line (lapsed listings are dropped on the way), if not the caller.
local function queuedAhead()
  local now = redis.call('time')
  local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
  while true do
    local first = redis.call('zrange', waitersKey, 0, 0)[1]
    if not first or first == waiterId then
      return false
    end
    local info = redis.call('hget', waiterInfoKey, first)
    local listedUntil = info and tonumber(string.match(info, '\n(%d+)$'))
    if listedUntil and listedUntil > nowMs then
      return true
    end
    redis.call('zrem', waitersKey, first)
    redis.call('hdel', waiterInfoKey, first)
  end
end

if redis.call('exists', lockKey) == 0 and not (fair and queuedAhead()) then
  local token = nextToken(redis.call('time'))
  redis.call('hset', lockKey, owner, 1)
  redis.call('pexpire', lockKey, leaseMs)
  if waiterTtlMs > 0 then
    redis.call('zrem', waitersKey, waiterId)
    redis.call('hdel', waiterInfoKey, waiterId)
  end
  return token
end

if redis.call('hexists', lockKey, owner) == 1 then
  -- A first acquisition that finds itself already the owner: the lock was handed over to it, or
  -- an earlier attempt ran but its reply was lost. Either way it holds exactly one hold now.
  redis.call('hset', lockKey, owner, 1)
  redis.call('pexpire', lockKey, leaseMs)
  -- A fresh token, not the counter: the caller never saw the grant's token, and the field may have
  -- carried holds its process handed on locally with tokens above the counter (local-tokens.ts).
  return nextToken(redis.call('time'))
end

if waiterTtlMs > 0 then
  -- Listed, the process is granted the lock directly by the release that finds it first in line
  -- (and bounds how long the holder's process may keep handing it to its own waiters). NX keeps
  -- its place while it re-lists; the entry names its current waiting owner and lives only until
  -- the next re-listing is due, so a process that died is skipped soon.
  local now = redis.call('time')
  local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
  redis.call('zadd', waitersKey, 'NX', tonumber(now[1]) * 1000000 + tonumber(now[2]), waiterId)
  redis.call('hset', waiterInfoKey, waiterId, owner .. '\n' .. leaseMs .. '\n' .. (nowMs + waiterTtlMs))
  -- Only ever extend the queue's expiry: a short waiter must not drop a long waiter's entry.
  if redis.call('pttl', waitersKey) < waiterTtlMs then
    redis.call('pexpire', waitersKey, waiterTtlMs)
    redis.call('pexpire', waiterInfoKey, waiterTtlMs)
  end
end
return -math.max(redis.call('pttl', lockKey), 0)
`;
