-- Token bucket, one per key: `burst` tokens at most, refilled at `ratePerSecond`, one taken per
-- request. Time from this server's clock (TIME), so every replica counts against the same bucket
-- with the same clock. Returns {allowed (1/0), retryAfterMs (0 when allowed)}.
local bucketKey = KEYS[1]
local ratePerSecond = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
if not ratePerSecond or ratePerSecond <= 0 or not burst or burst < 1 then
  return redis.error_reply('ERR token bucket needs rate > 0 and burst >= 1')
end

local now = redis.call('time')
local nowMs = tonumber(now[1]) * 1000 + tonumber(now[2]) / 1000
local state = redis.call('hmget', bucketKey, 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or nowMs
-- A clock step backwards (failover to a host behind) refills nothing rather than going negative.
local elapsedMs = math.max(0, nowMs - at)
tokens = math.min(burst, tokens + elapsedMs * ratePerSecond / 1000)

local allowed = 0
local retryAfterMs = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retryAfterMs = math.ceil((1 - tokens) * 1000 / ratePerSecond)
end
redis.call('hset', bucketKey, 'tokens', tostring(tokens), 'at', tostring(nowMs))
-- A full bucket is the same as no bucket: keep it only as long as it takes to refill.
redis.call('pexpire', bucketKey, math.ceil(burst * 1000 / ratePerSecond) + 1000)
return {allowed, retryAfterMs}
