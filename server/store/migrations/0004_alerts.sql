CREATE TABLE `alert_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`alert_id` integer NOT NULL,
	`at` integer NOT NULL,
	`event` text NOT NULL,
	`severity` text NOT NULL,
	`value` text,
	`summary` text NOT NULL,
	FOREIGN KEY (`alert_id`) REFERENCES `alerts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `alert_events_at_idx` ON `alert_events` (`at`);--> statement-breakpoint
CREATE TABLE `alerts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`rule` text NOT NULL,
	`host` text NOT NULL,
	`object` text DEFAULT '' NOT NULL,
	`object_kind` text NOT NULL,
	`tags` text DEFAULT '[]' NOT NULL,
	`state` text NOT NULL,
	`severity` text NOT NULL,
	`value` real,
	`shown` text DEFAULT '' NOT NULL,
	`summary` text NOT NULL,
	`pending_since` integer,
	`started_at` integer,
	`resolved_at` integer,
	`acknowledged_at` integer,
	`notified_state` text,
	`notified_severity` text,
	`last_notified_at` integer,
	`changes` text DEFAULT '[]' NOT NULL,
	`flapping` integer DEFAULT false NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `alerts_rule_host_object_uq` ON `alerts` (`rule`,`host`,`object`);--> statement-breakpoint
CREATE INDEX `alerts_state_idx` ON `alerts` (`state`);--> statement-breakpoint
CREATE TABLE `deliveries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`channel` text NOT NULL,
	`alert_id` integer,
	`kind` text NOT NULL,
	`severity` text NOT NULL,
	`body` text NOT NULL,
	`created_at` integer NOT NULL,
	`next_attempt_at` integer NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`status` text NOT NULL,
	`batch` integer,
	`last_error` text,
	`sent_at` integer,
	FOREIGN KEY (`alert_id`) REFERENCES `alerts`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `deliveries_status_idx` ON `deliveries` (`status`,`channel`,`next_attempt_at`);--> statement-breakpoint
CREATE TABLE `delivery_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`channel` text NOT NULL,
	`at` integer NOT NULL,
	`ok` integer NOT NULL,
	`count` integer NOT NULL,
	`title` text NOT NULL,
	`detail` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `delivery_log_channel_at_idx` ON `delivery_log` (`channel`,`at`);--> statement-breakpoint
CREATE TABLE `silences` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`rule` text,
	`host` text,
	`object` text,
	`tag` text,
	`comment` text DEFAULT '' NOT NULL,
	`created_at` integer NOT NULL,
	`ends_at` integer NOT NULL
);
