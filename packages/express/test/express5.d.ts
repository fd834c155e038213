/** express@5, installed under the npm alias `express5`; typed as express 4, whose API it keeps. */
declare module 'express5' {
  import express from 'express';
  export = express;
}
