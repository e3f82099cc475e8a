-- Argo CD health check for apps.haoperator.dev/HighlyAvailableApp.
--
-- Argo CD runs this script with the live object in `obj` and reads the returned `hs`
-- (status: Healthy | Progressing | Degraded | Suspended, and a message). It reads the phase the
-- operator writes on the app (status.phase), the same field kubectl get, the kubectl plugin and the
-- operator's metrics read, so every tool agrees on an app:
--   no status or no phase yet                 -> Progressing
--   status.observedGeneration < generation    -> Progressing (the status describes an older spec)
--   Ready                                     -> Healthy
--   Stalled                                   -> Degraded  (a failed update, rolled back or not)
--   Paused                                    -> Suspended (spec.rollout.paused holds an update)
--   Progressing, NotReady                     -> Progressing
-- The message is that of the condition that decided the phase. A stale status is checked first so
-- that a fix pushed after a failure shows as Progressing while the operator catches up, not as the
-- old failure. Argo CD opens only the base, table and package libraries for a health script set in
-- argocd-cm (no string library), so the script uses nothing else.

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
if status == nil or status.phase == nil or status.phase == "" then
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

local phase = status.phase
if phase == "Ready" then
  hs.status = "Healthy"
  hs.message = describe(condition(status, "Ready"), "the app is ready")
elseif phase == "Stalled" then
  hs.status = "Degraded"
  hs.message = describe(condition(status, "Stalled"), "the app is stalled")
elseif phase == "Paused" then
  hs.status = "Suspended"
  hs.message = describe(condition(status, "Reconciling"), "the rollout is paused (spec.rollout.paused)")
elseif phase == "Progressing" then
  hs.status = "Progressing"
  hs.message = describe(condition(status, "Reconciling"), "the operator is reconciling the app")
else
  hs.status = "Progressing"
  hs.message = describe(condition(status, "Ready"), "waiting for the app to become ready")
end
return hs
