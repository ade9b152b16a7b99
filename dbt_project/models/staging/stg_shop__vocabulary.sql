{#-
  The shop's vocabulary (seed shop_vocabulary), one row per vocabulary and value key: the canonical
  group that staging maps the value to. A group's own name maps to the group.
-#}
with

seed as (

    select
        trim(vocabulary) as vocabulary,
        {{ vocabulary_key('raw_value') }} as value_key,
        trim(canonical_value) as canonical_value

    from {{ ref('shop_vocabulary') }}

),

groups as (

    select distinct
        vocabulary,
        {{ vocabulary_key('canonical_value') }} as value_key,
        canonical_value

    from seed

)

select
    vocabulary,
    value_key,
    canonical_value
from seed
union
select
    vocabulary,
    value_key,
    canonical_value
from groups
