{#- Every (r_score, fm_score) pair from 1 to 5 must match exactly one segment rule. -#}
with

segment_rules as (

    select * from {{ ref('rfm_segment_rules') }}

),

scores as (

    select generated_number as score from ({{ dbt.generate_series(5) }}) as numbers

),

score_pairs as (

    select
        r.score as r_score,
        fm.score as fm_score
    from scores as r
    cross join scores as fm

)

select
    score_pairs.r_score,
    score_pairs.fm_score,
    count(segment_rules.segment) as matching_rules
from score_pairs
left join segment_rules
    on score_pairs.r_score between segment_rules.r_score_min and segment_rules.r_score_max
    and score_pairs.fm_score between segment_rules.fm_score_min and segment_rules.fm_score_max
group by score_pairs.r_score, score_pairs.fm_score
having count(segment_rules.segment) != 1
