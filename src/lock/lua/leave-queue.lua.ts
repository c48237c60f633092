// Embedded so the package ships its scripts inside its JavaScript (no .lua asset to copy or find at
// run time). The Lua's own comments say why each step is there.
import { LOCAL_TOKENS } from './local-tokens';

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
  -- Held by this owner already: a fresh token by acquire.lua's rule, not the counter — the waiter
  -- never saw the grant's token, and the field may have carried holds its process handed on
  -- locally with tokens above the counter (local-tokens.ts).
  local now = redis.call('time')
  local nowUs = tonumber(now[1]) * 1000000 + tonumber(now[2])
  local token = math.max((tonumber(redis.call('get', fenceKey)) or 0) + 1 + ${LOCAL_TOKENS}, nowUs)
  redis.call('set', fenceKey, string.format('%.0f', token), 'px', 604800000)
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
