{#-
  Raw tables land only once a file of theirs has been accepted (docs/architecture.md, "Raw layer"):
  an optional table that never landed has no relation in schema raw. These macros let models read
  such a table anyway (as an empty relation of the same shape) and let marts that need it come out
  empty, with their full schema.
-#}

{% macro source_has_landed(source_name, table_name) -%}
    {#- True when the source's relation exists in the database. Parsing (no database) assumes it has. -#}
    {%- if not execute -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set node = ecom.source_node(source_name, table_name) -%}
    {%- set existing = adapter.get_relation(
            database=node.database, schema=node.schema, identifier=node.identifier) -%}
    {{ return(existing is not none) }}
{%- endmacro %}

{% macro landed_source(source_name, table_name) -%}
    {#- The source relation when it has landed, else an empty inline relation with its declared columns. -#}
    {%- set relation = source(source_name, table_name) -%}
    {%- if ecom.source_has_landed(source_name, table_name) -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- do log(relation ~ " has not landed: " ~ this ~ " reads an empty relation of its shape", info=true) -%}
    {{ return(ecom.empty_source_relation(source_name, table_name)) }}
{%- endmacro %}

{% macro source_node(source_name, table_name) -%}
    {#- The source's node in the graph (database, schema, identifier, columns). -#}
    {%- set matches = graph.sources.values()
            | selectattr('source_name', 'equalto', source_name)
            | selectattr('name', 'equalto', table_name) | list -%}
    {%- if matches | length != 1 -%}
        {{ exceptions.raise_compiler_error("source " ~ source_name ~ "." ~ table_name ~ " is not declared") }}
    {%- endif -%}
    {{ return(matches[0]) }}
{%- endmacro %}

{% macro empty_source_relation(source_name, table_name) -%}
    {#- `(select cast(null as <type>) as <column>, ... where 1 = 0)` from the source's column data_types. -#}
    {%- set columns = ecom.source_node(source_name, table_name).columns.values() | list -%}
    {%- set missing_types = columns | rejectattr('data_type') | map(attribute='name') | list -%}
    {%- if not columns or missing_types -%}
        {{ exceptions.raise_compiler_error(
            "source " ~ source_name ~ "." ~ table_name ~ " must declare every column with a data_type "
            ~ "to stand in for a table that has not landed; missing: " ~ (missing_types | join(', '))) }}
    {%- endif -%}
    {%- set typed_nulls = [] -%}
    {%- for column in columns -%}
        {%- do typed_nulls.append("cast(null as " ~ column.data_type ~ ") as " ~ adapter.quote(column.name)) -%}
    {%- endfor -%}
    {{ return("(select " ~ typed_nulls | join(", ") ~ " where 1 = 0)") }}
{%- endmacro %}

{% macro required_sources_landed() -%}
    {#-
      SQL condition for a mart's final select: true when every raw table listed in the model's
      meta.requires_sources (tables of source `shop`) has landed. When one has not, the mart is built
      empty and the log says which table is missing.
    -#}
    {%- if not execute or model.resource_type != 'model' -%}
        {{ return('(1 = 1)') }}
    {%- endif -%}
    {%- set meta = model.config.get('meta') or model.get('meta') or {} -%}
    {%- set missing = [] -%}
    {%- for table_name in meta.get('requires_sources', []) -%}
        {%- if not ecom.source_has_landed('shop', table_name) -%}
            {%- do missing.append(table_name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if missing -%}
        {%- do log(this ~ " is built empty: required raw table(s) not landed: " ~ (missing | join(', ')), info=true) -%}
        {{ return('(1 = 0)') }}
    {%- endif -%}
    {{ return('(1 = 1)') }}
{%- endmacro %}
