// Embedded so the package ships its scripts inside its JavaScript (no .lua asset to copy or find at
// run time). The Lua's own comments say why each step is there.
export const RELEASE_LUA = String.raw`
-- Owner-checked release of one hold. Replies (integers on the hot path):
--   -1        this owner does not hold the lock; nothing is changed
--   0         released; waiters are notified by pub/sub
--   n > 0     one re-entry released, n holds left
--   {token}   handed straight to nextOwner (a waiter of the same process) because no other
--             process is waiting: one round trip per hand-over instead of two
local lockKey = KEYS[1]
local channel = KEYS[2]
-- Passed only with a hand-over candidate (ARGV[4..6]).
local waitersKey = KEYS[3]
local fenceKey = KEYS[4]
local owner = ARGV[1]
-- The lease to keep when a re-entry is released (absent for a final release).
local leaseMs = tonumber(ARGV[2] or '0')
-- A final release ('1' or absent) removes the lock whatever count drift Redis has; '0' releases one re-entry.
local final = ARGV[3] ~= '0'
local nextOwner = ARGV[4]
local nextLeaseMs = tonumber(ARGV[5] or '0')
local processId = ARGV[6]
-- A fence counter lives 7 days from its last token (as in acquire.lua).
local fenceTtlMs = 604800000

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

if nextOwner then
  local now = redis.call('time')
  local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
  redis.call('zremrangebyscore', waitersKey, '-inf', nowMs)
  local others = redis.call('zcard', waitersKey)
  if redis.call('zscore', waitersKey, processId) then
    others = others - 1
  end
  if others == 0 then
    -- The same rule as acquire.lua's nextToken: max(counter + 1, server time in µs).
    local nowUs = tonumber(now[1]) * 1000000 + tonumber(now[2])
    local token = math.max((tonumber(redis.call('get', fenceKey)) or 0) + 1, nowUs)
    redis.call('set', fenceKey, string.format('%.0f', token), 'px', fenceTtlMs)
    redis.call('hset', lockKey, nextOwner, 1)
    redis.call('pexpire', lockKey, nextLeaseMs)
    return {token}
  end
end

redis.call('publish', channel, 'released')
return 0
`;
