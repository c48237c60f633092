// Embedded so the package ships its scripts inside its JavaScript (no .lua asset to copy or find at
// run time). The Lua's own comments say why each step is there.
import { NEXT_TOKEN_LUA } from './next-token.lua';

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
${NEXT_TOKEN_LUA}
if redis.call('hexists', lockKey, owner) == 1 then
  -- Held by this owner already: a fresh token (next-token.lua.ts), not the counter — the waiter
  -- never saw the grant's token, and the field may have carried holds its process handed on
  -- locally with tokens above the counter (local-tokens.ts).
  return nextToken(redis.call('time'))
end
-- Only this owner's entry: the process may already be listed again for its next waiter.
local info = redis.call('hget', waiterInfoKey, processId)
if info and string.sub(info, 1, #owner + 1) == owner .. '\n' then
  redis.call('zrem', waitersKey, processId)
  redis.call('hdel', waiterInfoKey, processId)
end
return 0
`;
