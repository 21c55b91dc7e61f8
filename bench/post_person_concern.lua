-- wrk script: POST /api/v1/person-concerns, a different registered professional each time.
local token = os.getenv("TOKEN")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
request = function()
  local gmc = string.format("%07d", math.random(1000000, 9999999))
  local body = '{"subject_type":"registered_professional","person":{"full_name":"Dr Bench ' .. gmc ..
    '","date_of_birth":"1970-01-31","registrations":[{"register":"gmc","number":"' .. gmc ..
    '"}],"job_role":"GP","work_addresses":["1 High Street"]},"concern_categories":["diversion_or_theft"],' ..
    '"provenance":"colleague","status":"alleged","description":"Benchmark concern about controlled drugs."}'
  return wrk.format(nil, nil, nil, body)
end
