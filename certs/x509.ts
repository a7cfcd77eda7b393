/**
 * @peculiar/x509, loaded after the Reflect metadata polyfill its tsyringe container needs. Every file of
 * this part imports x509 from here, so no import order can break it.
 */
import 'reflect-metadata';

export * from '@peculiar/x509';
