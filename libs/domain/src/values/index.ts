export * from './json';
export * from './secret-box';
export * from './secret-paths';
export * from './reserved-keys';
export * from './values-validator';
export * from './key-rotation';
