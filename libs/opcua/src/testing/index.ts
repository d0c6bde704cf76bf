export { freePort } from '../lib/free-port';
export * from './reference-plant';
