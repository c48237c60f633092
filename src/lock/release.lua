-- Owner-checked release of one hold. Returns the remaining hold count (0 = released and
-- waiters notified), or -1 when this owner does not hold the lock (nothing is changed).
local lockKey = KEYS[1]
local channel = KEYS[2]
local owner = ARGV[1]
local leaseMs = tonumber(ARGV[2])

-- Only the owner may release: a late release after expiry must not delete another owner's lock.
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
redis.call('publish', channel, 'released')
return 0
