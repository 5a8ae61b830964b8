// Tables every party's database carries; each party's schema re-exports these.
export * from './jobs/jobs.schema.ts';
export * from './realtime/realtime.schema.ts';
