// model/: see README.md in this folder for what lives here and what it may import.
export * from './average';
export * from './config';
export * from './densities';
export * from './iwae';
export * from './layers';
export * from './m2';
export * from './objectives';
export * from './optimizer';
export * from './relaxed';
export * from './vae';
