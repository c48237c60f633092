// Embedded so the package ships its scripts inside its JavaScript (no .lua asset to copy or find at
// run time). The Lua's own comments say why each step is there.
import { LOCAL_TOKENS } from './local-tokens';

/**
 * The fencing-token rule, one Lua function spliced into every script that issues tokens
 * (acquire.lua, release.lua, leave-queue.lua). The script must declare `fenceKey` before it.
 */
export const NEXT_TOKEN_LUA = String.raw`
-- Fencing token from the server time now (a TIME reply): max(counter + 1 + LOCAL_TOKENS, this
-- server's time in µs), stored back as the counter (it lives 7 days from its last token). Strictly
-- increasing per lock name on one server, and above the tokens the last holder's process may have
-- handed on locally (counter + 1 .. counter + LOCAL_TOKENS, see local-tokens.ts); and when the
-- counter is behind — expired, lost with a restart, or stale on a replica promoted by a failover —
-- the server clock carries the next token above every token issued before (no lock is granted
-- 60,000 times a second). What this cannot cover: a server whose clock is behind the old one's; see
-- README.md.
local function nextToken(now)
  local nowUs = tonumber(now[1]) * 1000000 + tonumber(now[2])
  local token = math.max((tonumber(redis.call('get', fenceKey)) or 0) + 1 + ${LOCAL_TOKENS}, nowUs)
  redis.call('set', fenceKey, string.format('%.0f', token), 'px', 604800000)
  return token
end
`;
