{#-
  Each cut splits a cohort without loss or overlap: per grain, cohort and period, the cohort sizes,
  active customers, orders and revenue of one dimension's values add up to the 'all' cohort's, in
  cohort_retention and (sizes and repeat customers) in cohort_repeat_purchase.
-#}
with

cohort_retention as (

    select * from {{ ref('cohort_retention') }}

),

cohort_repeat_purchase as (

    select * from {{ ref('cohort_repeat_purchase') }}

),

retention_sums as (

    select
        cohort_grain,
        cohort_dimension,
        cohort_start,
        period_index,
        sum(cohort_size) as cohort_size,
        sum(active_customers) as active_customers,
        sum(orders) as orders,
        sum(revenue) as revenue

    from cohort_retention
    group by 1, 2, 3, 4

),

repeat_sums as (

    select
        cohort_grain,
        cohort_dimension,
        cohort_start,
        sum(cohort_size) as cohort_size,
        sum(repeat_customers_30d) as repeat_customers_30d,
        sum(repeat_customers_90d) as repeat_customers_90d

    from cohort_repeat_purchase
    group by 1, 2, 3

),

retention_mismatches as (

    select
        cut.cohort_grain,
        cut.cohort_dimension,
        cut.cohort_start,
        'cohort_retention' as mart

    from retention_sums as cut
    inner join retention_sums as overall
        on cut.cohort_grain = overall.cohort_grain
        and cut.cohort_start = overall.cohort_start
        and cut.period_index = overall.period_index
        and overall.cohort_dimension = 'all'
    where cut.cohort_size != overall.cohort_size
        or cut.active_customers != overall.active_customers
        or cut.orders != overall.orders
        or cut.revenue != overall.revenue

),

repeat_mismatches as (

    select
        cut.cohort_grain,
        cut.cohort_dimension,
        cut.cohort_start,
        'cohort_repeat_purchase' as mart

    from repeat_sums as cut
    inner join repeat_sums as overall
        on cut.cohort_grain = overall.cohort_grain
        and cut.cohort_start = overall.cohort_start
        and overall.cohort_dimension = 'all'
    where cut.cohort_size != overall.cohort_size
        or cut.repeat_customers_30d != overall.repeat_customers_30d
        or cut.repeat_customers_90d != overall.repeat_customers_90d

)

select * from retention_mismatches
union all
select * from repeat_mismatches
