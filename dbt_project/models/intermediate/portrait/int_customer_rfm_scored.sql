{#-
  One row per customer of int_customer_btyd_summarized (its columns) with the RFM scores and segment.
  Scores 1..5, 5 best: 1 + floor(5 × percent_rank), customers ranked from worst to best. Tied values
  share a rank, hence a score; the single best value (percent_rank 1) is capped at 5. fm_score is the
  mean of F and M, halves rounded up; the segment is the seed rfm_segment_rules' for (R, FM).
-#}
with

btyd_summary as (

    select * from {{ ref('int_customer_btyd_summarized') }}

),

segment_rules as (

    select * from {{ ref('rfm_segment_rules') }}

),

rfm_scores as (

    select
        *,
        least(5, 1 + floor(5 * percent_rank() over (order by days_since_last_order desc))) as r_score,
        least(5, 1 + floor(5 * percent_rank() over (order by order_count))) as f_score,
        least(5, 1 + floor(5 * percent_rank() over (order by total_revenue))) as m_score

    from btyd_summary

),

fm_scores as (

    select
        *,
        -- mean of F and M, halves rounded up
        floor((f_score + m_score + 1) / 2) as fm_score

    from rfm_scores

)

select
    fm_scores.customer_id,
    fm_scores.first_order_date,
    fm_scores.last_order_date,
    fm_scores.order_count,
    fm_scores.total_revenue,
    fm_scores.avg_order_value,
    fm_scores.frequency,
    fm_scores.recency_days,
    fm_scores.tenure_days,
    fm_scores.monetary_value,
    fm_scores.days_since_last_order,
    fm_scores.last_gap_days,
    fm_scores.as_of_date,
    fm_scores.r_score,
    fm_scores.f_score,
    fm_scores.m_score,
    fm_scores.fm_score,
    segment_rules.segment as rfm_segment

from fm_scores
left join segment_rules
    on fm_scores.r_score between segment_rules.r_score_min and segment_rules.r_score_max
    and fm_scores.fm_score between segment_rules.fm_score_min and segment_rules.fm_score_max
