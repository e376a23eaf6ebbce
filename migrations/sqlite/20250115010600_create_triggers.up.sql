-- updated_at upkeep on the four tables that have the column.
-- Rule: an UPDATE that leaves updated_at unchanged gets datetime('now'); an UPDATE that sets
-- updated_at itself (Gateway does, with sub-second precision) is left alone. The WHEN clause
-- is also what stops recursion, even with PRAGMA recursive_triggers = ON: the trigger fires
-- only when updated_at differs from datetime('now'), and its own UPDATE makes them equal.
-- (A row already stamped this very second keeps its value.)
CREATE TRIGGER IF NOT EXISTS trg_tasks_updated_at
AFTER UPDATE ON tasks
FOR EACH ROW WHEN NEW.updated_at = OLD.updated_at AND OLD.updated_at <> datetime('now')
BEGIN
    UPDATE tasks SET updated_at = datetime('now') WHERE id = NEW.id;
END;

CREATE TRIGGER IF NOT EXISTS trg_workflows_updated_at
AFTER UPDATE ON workflows
FOR EACH ROW WHEN NEW.updated_at = OLD.updated_at AND OLD.updated_at <> datetime('now')
BEGIN
    UPDATE workflows SET updated_at = datetime('now') WHERE id = NEW.id;
END;

CREATE TRIGGER IF NOT EXISTS trg_sessions_updated_at
AFTER UPDATE ON sessions
FOR EACH ROW WHEN NEW.updated_at = OLD.updated_at AND OLD.updated_at <> datetime('now')
BEGIN
    UPDATE sessions SET updated_at = datetime('now') WHERE id = NEW.id;
END;

CREATE TRIGGER IF NOT EXISTS trg_configurations_updated_at
AFTER UPDATE ON configurations
FOR EACH ROW WHEN NEW.updated_at = OLD.updated_at AND OLD.updated_at <> datetime('now')
BEGIN
    UPDATE configurations SET updated_at = datetime('now') WHERE key = NEW.key;
END;
