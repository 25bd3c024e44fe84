-- The moments a workflow item is breached and goes at risk, indexed, so that
-- the `sla_state` list filter, the service-level metrics and the event job read
-- an index range instead of working out every row's state (issue 12). The
-- expressions are src/feedback/service_levels.rs's `sla_breach_at_sql("")` and
-- `sla_risk_at_sql("")`, character for character (a unit test checks it): a
-- planner uses an expression index only for the same expression.

CREATE INDEX feedback_sla_breach ON feedback ((CASE WHEN status IS NULL THEN NULL WHEN (first_responded_at IS NULL OR first_responded_at > first_response_due_at) AND (resolved_at > resolution_due_at OR (resolved_at IS NULL AND (paused_at IS NULL OR paused_at > resolution_due_at))) THEN CASE WHEN first_response_due_at <= resolution_due_at THEN first_response_due_at ELSE resolution_due_at END WHEN (first_responded_at IS NULL OR first_responded_at > first_response_due_at) THEN first_response_due_at WHEN (resolved_at > resolution_due_at OR (resolved_at IS NULL AND (paused_at IS NULL OR paused_at > resolution_due_at))) THEN resolution_due_at END));

CREATE INDEX feedback_sla_risk ON feedback ((CASE WHEN status IS NULL OR resolved_at IS NOT NULL THEN NULL WHEN first_responded_at IS NULL AND (paused_at IS NULL OR paused_at >= resolution_risk_at) THEN CASE WHEN first_response_risk_at <= resolution_risk_at THEN first_response_risk_at ELSE resolution_risk_at END WHEN first_responded_at IS NULL THEN first_response_risk_at WHEN (paused_at IS NULL OR paused_at >= resolution_risk_at) THEN resolution_risk_at END));
