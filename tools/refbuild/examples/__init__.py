"""The Commission's worked examples as test fixtures: `sheet` (reading the template by labels), `inputs` and
`outputs` (its sheets → fixture parts), `fixtures` (extract / build / load the committed JSON), `landing`
(a fixture → landing-zone rows). Build-time and test-time only; nothing at run time imports this."""
