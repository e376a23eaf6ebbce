-- updated_at upkeep on the four tables that have the column.
-- Rule: an UPDATE that leaves updated_at unchanged gets now(); an UPDATE that sets updated_at itself
-- (Gateway does) is left alone. A BEFORE trigger changes the row being written, so it never recurses.
CREATE OR REPLACE FUNCTION set_updated_at() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.updated_at = OLD.updated_at THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE TRIGGER trg_tasks_updated_at
BEFORE UPDATE ON tasks FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE OR REPLACE TRIGGER trg_workflows_updated_at
BEFORE UPDATE ON workflows FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE OR REPLACE TRIGGER trg_sessions_updated_at
BEFORE UPDATE ON sessions FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE OR REPLACE TRIGGER trg_configurations_updated_at
BEFORE UPDATE ON configurations FOR EACH ROW EXECUTE FUNCTION set_updated_at();
