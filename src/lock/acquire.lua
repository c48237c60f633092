-- Reentrant acquire (Redisson layout): a hash per lock, field = owner, value = hold count.
-- Returns {1, fencingToken, holdCount} when acquired or re-entered, {0, pttl} when busy.
local lockKey = KEYS[1]
local fenceKey = KEYS[2]
local owner = ARGV[1]
local leaseMs = tonumber(ARGV[2])
local fenceTtlMs = tonumber(ARGV[3])

if redis.call('hexists', lockKey, owner) == 1 then
  local count = redis.call('hincrby', lockKey, owner, 1)
  redis.call('pexpire', lockKey, leaseMs)
  -- Re-entry keeps the token of the first acquisition.
  return {1, tonumber(redis.call('hget', lockKey, 'fence')), count}
end

if redis.call('exists', lockKey) == 1 then
  return {0, redis.call('pttl', lockKey)}
end

-- Fencing token: strictly increasing per lock name. max(last + 1, server time in µs) stays
-- increasing even after the counter key expires or Redis restarts empty, as long as the
-- server clock does not go back, so the counter need not live forever for every name.
local now = redis.call('time')
local nowMicros = tonumber(now[1]) * 1000000 + tonumber(now[2])
local last = tonumber(redis.call('get', fenceKey) or '0')
local token = math.max(last + 1, nowMicros)
local tokenText = string.format('%.0f', token)
redis.call('set', fenceKey, tokenText, 'px', fenceTtlMs)
-- 'fence' cannot collide with an owner field: owner ids always contain ':'.
redis.call('hset', lockKey, owner, 1, 'fence', tokenText)
redis.call('pexpire', lockKey, leaseMs)
return {1, token, 1}
