DROP TABLE IF EXISTS users_tokens;
DROP TABLE IF EXISTS users;
-- citext stays: other objects of the database may use it, and re-creating it is idempotent.
