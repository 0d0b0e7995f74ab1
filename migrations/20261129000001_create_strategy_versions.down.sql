DROP INDEX IF EXISTS strategies_user_inserted_idx;
DROP INDEX IF EXISTS strategies_user_updated_idx;
DROP INDEX IF EXISTS strategies_user_lower_name_idx;
DROP TABLE IF EXISTS strategy_versions;
DROP FUNCTION IF EXISTS strategy_versions_are_immutable();
