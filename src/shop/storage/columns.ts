// Column helpers shared by the shop's table files: timestamps with time zone, amounts as bigint minor units.
import { bigint, timestamp } from 'drizzle-orm/pg-core';

export const ts = (name: string) => timestamp(name, { withTimezone: true });
export const minor = (name: string) => bigint(name, { mode: 'bigint' });
