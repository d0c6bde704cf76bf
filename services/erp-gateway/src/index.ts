export * from './app/gateway-options';
export * from './app/erp-gateway.module';
export * from './app/erp-gateway.app';
export * from './app/stores';
export * from './app/webhooks/webhook-signature';
export * from './app/webhooks/webhook-dispatcher';
export * from './app/lots/batch-record';
export * from './app/gateway.config';
