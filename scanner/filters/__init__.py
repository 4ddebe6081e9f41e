"""False-positive filters: small predicates that say why a candidate is not a real secret."""
