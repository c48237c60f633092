-- Reentrant acquire (Redisson layout): a hash per lock, field = owner, value = hold count.
-- Returns {1, fencingToken, holdCount} when acquired or re-entered, {0, pttl} when busy.
local lockKey = KEYS[1]
local fenceKey = KEYS[2]
local owner = ARGV[1]
local leaseMs = tonumber(ARGV[2])
local fenceTtlMs = tonumber(ARGV[3])

if redis.call('exists', lockKey) == 0 then
  -- Fencing token: strictly increasing per lock name. The counter key may expire (fenceTtlMs after
  -- it was started) or vanish with a Redis restart; it then restarts at the server time in µs,
  -- which is above every token issued before because no lock is taken a million times a second.
  local token = redis.call('incr', fenceKey)
  if token == 1 then
    local now = redis.call('time')
    token = tonumber(now[1]) * 1000000 + tonumber(now[2])
    redis.call('set', fenceKey, string.format('%.0f', token), 'px', fenceTtlMs)
  end
  -- 'fence' cannot collide with an owner field: owner ids always contain ':'.
  redis.call('hset', lockKey, owner, 1, 'fence', string.format('%.0f', token))
  redis.call('pexpire', lockKey, leaseMs)
  return {1, token, 1}
end

if redis.call('hexists', lockKey, owner) == 1 then
  local count = redis.call('hincrby', lockKey, owner, 1)
  redis.call('pexpire', lockKey, leaseMs)
  -- Re-entry keeps the token of the first acquisition.
  return {1, tonumber(redis.call('hget', lockKey, 'fence')), count}
end

return {0, redis.call('pttl', lockKey)}
