-- series_head and series_blocks become rowid tables. WITHOUT ROWID stored
-- their blobs (a head row is ~1.5 KB for a 50-guest host) in index b-tree
-- cells, which spill to overflow pages above a few hundred bytes: the file
-- was twice its data, and every insert wrote two or three pages. The
-- primary keys stay (as unique indexes), so replays are still idempotent.
CREATE TABLE `__new_series_head` (
	`host_id` integer NOT NULL,
	`interval_type` text NOT NULL,
	`collected_at` integer NOT NULL,
	`points` blob NOT NULL,
	PRIMARY KEY(`host_id`, `interval_type`, `collected_at`),
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_series_head` (`host_id`, `interval_type`, `collected_at`, `points`)
	SELECT `host_id`, `interval_type`, `collected_at`, `points` FROM `series_head`;
--> statement-breakpoint
DROP TABLE `series_head`;
--> statement-breakpoint
ALTER TABLE `__new_series_head` RENAME TO `series_head`;
--> statement-breakpoint
CREATE TABLE `__new_series_blocks` (
	`series_id` integer NOT NULL,
	`tier` integer NOT NULL,
	`start_ms` integer NOT NULL,
	`end_ms` integer NOT NULL,
	`count` integer NOT NULL,
	`data` blob NOT NULL,
	PRIMARY KEY(`series_id`, `tier`, `start_ms`),
	FOREIGN KEY (`series_id`) REFERENCES `series`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `__new_series_blocks` (`series_id`, `tier`, `start_ms`, `end_ms`, `count`, `data`)
	SELECT `series_id`, `tier`, `start_ms`, `end_ms`, `count`, `data` FROM `series_blocks`;
--> statement-breakpoint
DROP TABLE `series_blocks`;
--> statement-breakpoint
ALTER TABLE `__new_series_blocks` RENAME TO `series_blocks`;
--> statement-breakpoint
CREATE INDEX `series_blocks_tier_start_idx` ON `series_blocks` (`tier`,`start_ms`);
