-- Argo CD health check for apps.haoperator.dev/HighlyAvailableApp.
--
-- Argo CD runs this script with the live object in `obj` and reads the returned `hs`
-- (status: Healthy | Progressing | Degraded | Suspended, and a message). It follows the same rules
-- as kstatus, which Flux reads, so both tools agree on an app:
--   1. no status yet                              -> Progressing
--   2. status.observedGeneration < generation     -> Progressing (the status describes an older spec)
--   3. Stalled=True                               -> Degraded  (a failed update, rolled back or not)
--   4. spec.rollout.paused                        -> Suspended
--   5. Reconciling=True                           -> Progressing
--   6. Ready=True                                 -> Healthy
--   7. anything else                              -> Progressing, with the Ready condition's message
-- A stale status is checked before Stalled so that a fix pushed after a failure shows as
-- Progressing while the operator catches up, not as the old failure.
-- Argo CD opens only the base, table and package libraries for a health script set in argocd-cm
-- (no string library), so the script uses nothing else.

local hs = {}

local function condition(status, conditionType)
  if status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

local function describe(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  if c ~= nil and c.reason ~= nil and c.reason ~= "" then
    return c.reason
  end
  return fallback
end

local status = obj.status
if status == nil then
  hs.status = "Progressing"
  hs.message = "waiting for the operator to report status"
  return hs
end

local generation = 0
if obj.metadata ~= nil and obj.metadata.generation ~= nil then
  generation = obj.metadata.generation
end
local observed = status.observedGeneration or 0
if observed < generation then
  hs.status = "Progressing"
  hs.message = "waiting for the operator to observe generation " .. generation
  return hs
end

local stalled = condition(status, "Stalled")
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled, "the app is stalled")
  return hs
end

if obj.spec ~= nil and obj.spec.rollout ~= nil and obj.spec.rollout.paused == true then
  hs.status = "Suspended"
  hs.message = "the rollout is paused (spec.rollout.paused)"
  return hs
end

local reconciling = condition(status, "Reconciling")
if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = describe(reconciling, "the operator is reconciling the app")
  return hs
end

local ready = condition(status, "Ready")
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready, "the app is ready")
  return hs
end

hs.status = "Progressing"
hs.message = describe(ready, "waiting for the app to become ready")
return hs
