"""Compiled execution of hot queries: a plan per query text, no per-request GraphQL work.

Strawberry and graphql-core spend ~400 µs of CPU on a ``recommendations`` request whose
resolver needs ~100 µs: request parsing through several layers, an extension runner, a
``GraphQLResolveInfo`` and a ``Path`` per field, argument coercion, then completion of
~130 values. For a query text it has seen, this package does the document work once
(parse with the token limit, validation with every security rule, field collection,
argument mapping, a serialisation plan) and afterwards only coerces the variables,
calls the root resolvers' own functions and fills the plan.

It never answers differently from the standard path:

* only query operations whose root fields are registered here (see :mod:`.roots`), with
  scalar arguments and no ``@skip``/``@include``, are compiled; anything else, and every
  request the compiled path cannot vouch for before a resolver ran (unparsable body,
  invalid variables), goes through Strawberry unchanged;
* when a root resolver raises, or a value is not what the plan can serialise, the
  resolved root values are completed by graphql-core's own execution (resolvers are
  not called twice), so errors, paths and partial data are the spec's.
"""

from gbrec_graphql.compiled.executor import CompiledQueries

__all__ = ["CompiledQueries"]
