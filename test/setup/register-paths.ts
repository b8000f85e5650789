// globalSetup/globalTeardown run outside Jest's module system (no moduleNameMapper): resolve `src/...` here.
import { register } from 'tsconfig-paths';
import { resolve } from 'node:path';

register({ baseUrl: resolve(__dirname, '../..'), paths: { 'src/*': ['src/*'] } });
