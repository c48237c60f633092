// Embedded so the package ships its scripts inside its JavaScript (no .lua asset to copy or find at
// run time). The Lua's own comments say why each step is there.
export const LEAVE_QUEUE_LUA = String.raw`
-- A waiter that stops waiting leaves the queue of waiting processes, unless a release granted it
-- the lock first. Replies: 0 left (or was not queued); a token > 0: the lock is this owner's
-- already (granted while it was giving up) — the caller holds it with that token.
local lockKey = KEYS[1]
local fenceKey = KEYS[2]
local waitersKey = KEYS[3]
local waiterInfoKey = KEYS[4]
local owner = ARGV[1]
local processId = ARGV[2]

if redis.call('hexists', lockKey, owner) == 1 then
  -- While a lock is held nobody else draws from its counter: the counter is the holder's token.
  local token = tonumber(redis.call('get', fenceKey))
  if not token then
    -- The counter was lost meanwhile: a fresh token by acquire.lua's rule (here: server time in µs).
    local now = redis.call('time')
    token = tonumber(now[1]) * 1000000 + tonumber(now[2])
    redis.call('set', fenceKey, string.format('%.0f', token), 'px', 604800000)
  end
  return token
end
-- Only this owner's entry: the process may already be listed again for its next waiter.
local info = redis.call('hget', waiterInfoKey, processId)
if info and string.sub(info, 1, #owner + 1) == owner .. '\n' then
  redis.call('zrem', waitersKey, processId)
  redis.call('hdel', waiterInfoKey, processId)
end
return 0
`;
