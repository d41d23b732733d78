{#- Every access decision the Carbon API stated, one per subscription per tap run: a Denied
    subscription's emissions are missing from every report, so gaps can be explained. -#}
select
    cast(checked_at as {{ dbt.type_timestamp() }}) as checked_at,
    subscription_id,
    decision,
    decision = 'Allowed' as is_allowed,
    denial_reason
from {{ source('azure', 'subscription_access') }}
