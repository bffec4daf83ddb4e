// Modules without types of their own: enigma.js's schema, and the chart modules.
declare module 'enigma.js/schemas/12.2027.0.json' {
  const schema: object;
  export default schema;
}

declare module '@nebula.js/sn-*' {
  const sn: unknown;
  export default sn;
}
