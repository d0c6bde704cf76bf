// Specs that start OPC UA servers or clients: node-opcua's benign start-up warnings off.
import { routeNodeOpcuaWarnings } from '../lib/node-opcua-logging';

routeNodeOpcuaWarnings();
