-- GET a random path of the data file (one path a line): tags' /t/<code>, the pages they open, a lot page, a report.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")
local paths

function init(args)
  paths = common.lines(args[1])
  expected_status = tonumber(args[2] or "200")
  common.seed()
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end
