export * from './cell.scenarios';
export * from './control-loop.rig';
