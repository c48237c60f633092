// Embedded so the package ships its scripts inside its JavaScript (no .lua asset to copy or find at
// run time). The Lua's own comments say why each step is there.
import { NEXT_TOKEN_LUA } from './next-token.lua';
import type { PublishCommand } from './publish-command';

/**
 * The first lease of a direct grant to another process (see grantLeaseMs below); the new holder
 * (LockAcquisition.wonInRedis) extends it at once and counts its hold from it.
 */
export const GRANT_LEASE_MS = 2000;

/**
 * release.lua, publishing with `publish` (classic pub/sub) or `spublish` (sharded pub/sub, Redis 7:
 * the message stays on the lock's shard of a cluster instead of crossing the whole cluster bus).
 */
export const releaseLua = (publish: PublishCommand): string => String.raw`
-- Owner-checked release of one hold. Replies (integers on the hot path):
--   -1        this owner does not hold the lock; nothing is changed
--   0         released; nobody was queued, waiters are told by pub/sub
--   -2        granted straight to the first queued process's waiting owner, told by pub/sub
--   n > 0     one re-entry released, n holds left
--   {token}   handed straight to nextOwner (a waiter of the same process): one round trip per
--             hand-over instead of two
local lockKey = KEYS[1]
local channel = KEYS[2]
-- The queue of waiting processes (see acquire.lua): process ids by arrival, and what each waits with.
local waitersKey = KEYS[3]
local fenceKey = KEYS[4]
local waiterInfoKey = KEYS[5]
-- Local hand-overs in a row while other processes were queued.
local burstKey = KEYS[6]
local owner = ARGV[1]
-- The lease to keep when a re-entry is released (absent for a final release).
local leaseMs = tonumber(ARGV[2] or '0')
-- A final release ('1' or absent) removes the lock whatever count drift Redis has; '0' releases one re-entry.
local final = ARGV[3] ~= '0'
-- A hand-over candidate of the releasing process (ARGV[4..7]).
local nextOwner = ARGV[4]
local nextLeaseMs = tonumber(ARGV[5] or '0')
local processId = ARGV[6]
-- How many local hand-overs in a row are allowed while another process is queued: the releasing
-- process keeps the lock warm for its own waiters (no wake-up) but must then give it to the next
-- process in line.
local burstLimit = tonumber(ARGV[7] or '0')
-- Hand-overs the releasing process made without telling Redis since its last grant (see
-- local-tokens.ts): they count toward the burst.
local localHandovers = tonumber(ARGV[8] or '0')
-- A burst count lives as long as a fence counter (7 days).
local fenceTtlMs = 604800000
-- A direct grant to another process starts with this lease at most: if that process died after
-- queueing, the lock is free again this soon. The new holder extends it at once to its own lease.
local grantLeaseMs = ${GRANT_LEASE_MS}

-- Only the owner may release: a late release after expiry must not delete another owner's lock.
if final then
  -- The hash holds only its owner's field, so removing it removes the lock.
  if redis.call('hdel', lockKey, owner) == 0 then
    return -1
  end
else
  local count = tonumber(redis.call('hget', lockKey, owner))
  if not count then
    return -1
  end
  if count > 1 then
    redis.call('hincrby', lockKey, owner, -1)
    redis.call('pexpire', lockKey, leaseMs)
    return count - 1
  end
  redis.call('del', lockKey)
end

${NEXT_TOKEN_LUA}
local now

-- The first live queued process: entries whose listing ran out (the process died or stopped
-- waiting) are dropped on the way, as is any naming the releasing owner itself (stale: it held the
-- lock), and, when it hands over locally, the releasing process's own (its next waiter is the
-- local candidate, not a Redis waiter).
local head
if redis.call('exists', waitersKey) == 1 then
  now = redis.call('time')
  local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
  while true do
    local first = redis.call('zrange', waitersKey, 0, 0)[1]
    if not first then
      break
    end
    local info = redis.call('hget', waiterInfoKey, first)
    local waiter, lease, listedUntil
    if info then
      waiter, lease, listedUntil = string.match(info, '^(.-)\n(%d+)\n(%d+)$')
    end
    if waiter and tonumber(listedUntil) > nowMs and waiter ~= owner and (not nextOwner or first ~= processId) then
      head = { process = first, owner = waiter, leaseMs = tonumber(lease) }
      break
    end
    redis.call('zrem', waitersKey, first)
    redis.call('hdel', waiterInfoKey, first)
  end
end

if nextOwner then
  local counted = tonumber(redis.call('get', burstKey) or '0')
  local burst = counted + localHandovers
  if not head or burst < burstLimit then
    now = now or redis.call('time')
    local token = nextToken(now)
    redis.call('hset', lockKey, nextOwner, 1)
    redis.call('pexpire', lockKey, nextLeaseMs)
    if head then
      redis.call('set', burstKey, burst + 1, 'px', fenceTtlMs)
    elseif counted > 0 then
      redis.call('del', burstKey)
    end
    return {token}
  end
end

if head then
  -- The next process in line holds the lock when this script returns; its waiter learns it from
  -- the message (or, if the message is lost, from its next attempt, which finds itself the owner).
  local token = nextToken(now)
  redis.call('hset', lockKey, head.owner, 1)
  redis.call('pexpire', lockKey, math.min(head.leaseMs, grantLeaseMs))
  redis.call('zrem', waitersKey, head.process)
  redis.call('hdel', waiterInfoKey, head.process)
  redis.call('del', burstKey)
  redis.call('${publish}', channel, 'g\n' .. head.owner .. '\n' .. string.format('%.0f', token))
  return -2
end

-- Nobody in line: a burst counted while others waited is over.
redis.call('del', burstKey)
redis.call('${publish}', channel, 'released')
return 0
`;
