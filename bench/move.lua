-- POST /api/v1/moves: one item a request to another place of the store, with a fresh Idempotency-Key.
-- Arguments: <items file> <expected status> <places file>. Items file: "<item tag> <tag of its place now>" a line;
-- places file: the tags of the store's places on one line. The items are taken in turn (the pool is far larger
-- than the connections, so an item is never in flight twice) and each goes to a random place other than the one
-- it is in (this script keeps track), so every move is one the app accepts.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
local items, places, at = {}, {}, {}
local next_item = 0

function init(args)
  for i, line in ipairs(common.lines(args[1])) do
    local f = common.split(line)
    items[i], at[i] = f[1], f[2]
  end
  places = common.split(common.lines(args[3])[1])
  expected_status = tonumber(args[2] or "201")
  common.seed()
end

function request()
  next_item = next_item % #items + 1
  local dest
  repeat dest = places[math.random(#places)] until dest ~= at[next_item]
  at[next_item] = dest
  local body = string.format('{"to": "%s", "lines": [{"item": "%s"}]}', dest, items[next_item])
  local headers = common.headers({["Content-Type"] = "application/json", ["Idempotency-Key"] = common.uuid4()})
  return wrk.format("POST", wrk.path, headers, body)
end
