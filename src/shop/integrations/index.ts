// Order-status events to integrations (warehouse, CRM): configuration and the job handlers the
// shop's worker registers. Usage in main.ts:
//   createWorker({ ..., tasks: { ...integrationTasks({ database, config: loadIntegrationConfig(env), clock }), ... } })
export { loadIntegrationConfig, parseEndpoints, type IntegrationConfig, type IntegrationEndpoint } from './config.ts';
export { deliveryKey, ENDPOINT_DELIVERY_TASK, integrationTasks, type IntegrationDeps } from './deliver.ts';
export { listDeliveries, type DeliveryRow } from './deliveries.ts';
