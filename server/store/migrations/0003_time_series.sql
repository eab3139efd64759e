CREATE TABLE `latest_samples` (
	`host_id` integer NOT NULL,
	`interval_type` text NOT NULL,
	`collected_at` integer NOT NULL,
	`payload` text NOT NULL,
	PRIMARY KEY(`host_id`, `interval_type`),
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE cascade
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `series` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`host_id` integer NOT NULL,
	`kind` text NOT NULL,
	`object` text NOT NULL,
	`metric` text NOT NULL,
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `series_key_uq` ON `series` (`host_id`,`kind`,`object`,`metric`);--> statement-breakpoint
CREATE TABLE `series_blocks` (
	`series_id` integer NOT NULL,
	`tier` integer NOT NULL,
	`start_ms` integer NOT NULL,
	`end_ms` integer NOT NULL,
	`count` integer NOT NULL,
	`data` blob NOT NULL,
	PRIMARY KEY(`series_id`, `tier`, `start_ms`),
	FOREIGN KEY (`series_id`) REFERENCES `series`(`id`) ON UPDATE no action ON DELETE cascade
) WITHOUT ROWID;
--> statement-breakpoint
CREATE INDEX `series_blocks_tier_start_idx` ON `series_blocks` (`tier`,`start_ms`);--> statement-breakpoint
CREATE TABLE `series_head` (
	`host_id` integer NOT NULL,
	`interval_type` text NOT NULL,
	`collected_at` integer NOT NULL,
	`points` blob NOT NULL,
	PRIMARY KEY(`host_id`, `interval_type`, `collected_at`),
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE cascade
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `state_changes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`host_id` integer NOT NULL,
	`at` integer NOT NULL,
	`kind` text NOT NULL,
	`object` text NOT NULL,
	`value` text,
	`previous` text,
	FOREIGN KEY (`host_id`) REFERENCES `hosts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `state_changes_host_at_idx` ON `state_changes` (`host_id`,`at`);--> statement-breakpoint
CREATE INDEX `state_changes_object_idx` ON `state_changes` (`host_id`,`kind`,`object`,`at`);