CREATE TABLE users (id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
  email varchar(255) COLLATE utf8mb4_unicode_ci NOT NULL, name varchar(255) COLLATE utf8mb4_unicode_ci NOT NULL,
  is_admin tinyint(1) NOT NULL DEFAULT 0,
  created_at timestamp NULL DEFAULT NULL,
  updated_at timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
  UNIQUE KEY users_email_unique (email), KEY users_name_prefix (name(20))) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE posts (ID bigint(20) unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
  post_author bigint(20) unsigned NOT NULL DEFAULT 0,
  post_date datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
  post_title text NOT NULL, post_content longtext NOT NULL,
  post_name varchar(200) NOT NULL DEFAULT '',
  KEY post_name (post_name(191)), KEY post_author (post_author),
  FULLTEXT KEY post_search (post_title, post_content)) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
INSERT INTO posts (ID, post_author, post_date, post_title, post_content) VALUES (41, 1, '0000-00-00 00:00:00', 't', 'c');
CREATE TABLE options (option_id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
  option_name varchar(191) NOT NULL DEFAULT '', option_value longtext NOT NULL,
  UNIQUE KEY option_name (option_name), KEY option_value_prefix (option_value(100)),
  UNIQUE KEY option_value_unique (option_value(50))) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
